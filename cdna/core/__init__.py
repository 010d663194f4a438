"""The foundation every stage imports: configuration, errors, the lake's paths, run records (issue 12)."""
