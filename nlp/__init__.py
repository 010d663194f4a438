"""NLP stage: normalisation, PII masking, tokenising, intents, interests and complaint signals."""
