"""Lung nodule CAD for chest CT: candidates, false-positive reduction, measurement, Lung-RADS."""
