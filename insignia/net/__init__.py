"""Network access for the parts of Insignia that must fetch things (the kernel itself never does)."""
