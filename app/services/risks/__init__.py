"""Risk register (安全风险分级管控): assessment methods and catalogues, pure modules."""
