"""Tenancy (organisations and roles), audit events, public ids and service errors shared by every app."""
