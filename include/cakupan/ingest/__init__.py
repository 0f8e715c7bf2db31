"""Ingest: delivered files → raw.* rows, quarantine.rows and one audit.loads row per file, in the data's order:

    readers/    a file → blocks of data rows as cell text (sniff, workbook, csvtext, fastcsv, layout)
    parsing     Indonesian numbers, dates, months, programs, ... (small pure functions, one cell at a time)
    identity    the NIK rule and the participant pseudonym, on whole columns
    validate    blocks → one typed Batch, every row rule
    prepare     read + file-level checks + validate: everything that needs no database (`Preparer`)
    loader      the one writer: manifest, one transaction per file, rows in = loaded + quarantined (`Loader`)
    run         many files: reader processes prepare the next files while the writer writes (`ingest_paths`)
"""
