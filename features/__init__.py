"""Feature store stage: feature views, point-in-time snapshots, segments, online store."""
