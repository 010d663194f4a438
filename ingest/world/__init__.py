"""The synthetic Korean bank: customers, life events, transactions, web events, calls and audio."""
