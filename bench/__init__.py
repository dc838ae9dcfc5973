"""``make bench``: load a synthetic data set into a separate database and measure the API on it.

Run ``python -m bench`` (``make bench``); sizes and repetitions come from ``BENCH_*`` variables
(``bench/sizes.py``). The plain-DRF baseline and the raw floor it is compared with live here only.
"""
