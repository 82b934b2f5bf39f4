"""AndroidControl (offline steps): `benchmark` (samples and scores), `data` (episodes from the
TFRecord files), `protocols` (the distance and box scoring protocols), `a11y` (the accessibility
forest), `tfrecord` and `crc32c` (the record format, read without TensorFlow)."""
