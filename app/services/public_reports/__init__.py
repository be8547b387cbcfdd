"""Public reports (群众举报, 12350): intake without sign-in, tracking codes, routing, handling,
confidentiality of the reporter and figures."""
