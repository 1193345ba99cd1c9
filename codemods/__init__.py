"""Analysis and transforms: pure functions from source to findings and new source."""
