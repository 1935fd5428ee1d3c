"""Texts people send to the network's WhatsApp number: codes and sign-up conversations."""
