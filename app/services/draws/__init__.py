"""Double-random draws (双随机一公开): the published algorithm (``algorithm``) and the service that
runs it over the caller's pools and plans the inspections (``service``)."""
