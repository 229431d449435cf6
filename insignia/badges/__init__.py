"""Badge classes (OB 3.0 Achievements / OB 2.0 BadgeClasses): design, criteria, skills, expiry, lifecycle."""
