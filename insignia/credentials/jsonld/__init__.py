"""JSON-LD for credentials: offline context loading and RDF canonicalisation."""
