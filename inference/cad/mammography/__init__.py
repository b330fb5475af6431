"""Four-view screening mammography CAD: masses and calcification clusters, CC/MLO linking, density."""
