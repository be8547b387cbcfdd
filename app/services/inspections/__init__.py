"""Inspections and enforcement (检查/执法): the lifecycle table (``workflow``), the filters the
list and the figures share (``queries``), and the service (``service``)."""
