"""Cleaning the sign-ups: phone numbers, communes, duplicates and unsubscriptions."""
