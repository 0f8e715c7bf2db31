"""Ingest: delivered files → raw.* rows, quarantine.rows and one audit.loads row per file, in the data's order:

    inbox       the inbox within its bounds (no link out, first-level regency folders), a file's bytes read once
    discover    which inbox files to load, when each was first seen (received), whether it has settled
    readers/    a file → blocks of data rows as cell text (sniff, workbook, csvtext, csvlines, csvrecords, fastcsv, layout)
    parsing     Indonesian numbers, dates, months, programs, ... (small pure functions, one cell at a time)
    periodtext  the month a title or a file name names (or the words naming more than one)
    identity    the NIK rule and the participant pseudonym, on whole columns
    validate    blocks → one typed Batch, every row rule
    prepare     read + file-level checks + validate: everything that needs no database (`Preparer`)
    loader      the one writer: manifest, one transaction per file, rows in = loaded + quarantined (`Loader`)
    run         many files: reader processes prepare the next files while the writer writes (`ingest_paths`)
    keys        the pseudonym key's fingerprint (another key is refused before anything is written), `rekey`
"""

from cakupan.ingest.arrays import arrow_without_pandas

arrow_without_pandas()      # before any ingest module converts a Python value (arrays.arrow_without_pandas)

