"""What goes back to a regency: the rejection workbook (`workbook`), its return (`fixes`), the recommended template
(`template`); every clerk-facing text in Bahasa Indonesia (`texts`)."""
