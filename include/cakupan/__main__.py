from cakupan.cli import main

main()
