"""Awards: issuing credentials (one, bulk, API), their forms, status lists, revocation and suspension."""
