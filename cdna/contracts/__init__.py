"""Every table that crosses a stage boundary, defined once: schemas, source specs and typed stage results."""
