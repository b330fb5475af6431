"""Prostate MRI CAD: zones, gland volume, PSA density and lesions from T2w, ADC and high-b DWI."""
