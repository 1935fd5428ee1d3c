"""The Google Sheets register, through gspread."""
