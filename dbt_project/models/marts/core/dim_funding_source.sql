-- One row per funding source (sumber dana).
select * from (
    values
        ('APBD', 'Regency / province budget', true),
        ('APBDES', 'Village funds (APBDes / Dana Desa)', false),
        ('CSR', 'Corporate social responsibility', false),
        ('BAZNAS', 'National zakat agency', false),
        ('MANDIRI', 'Self-paid', false)
) as t (funding_source, funding_source_name, is_public_budget)
