-- One row per BPJS Ketenagakerjaan program.
select * from (
    values
        ('JKK', 'Jaminan Kecelakaan Kerja', 'work accident'),
        ('JKM', 'Jaminan Kematian', 'death'),
        ('JHT', 'Jaminan Hari Tua', 'old-age savings'),
        ('JP', 'Jaminan Pensiun', 'pension'),
        ('JKP', 'Jaminan Kehilangan Pekerjaan', 'job loss (wage earners only)')
) as t (program_code, program_name, description)
