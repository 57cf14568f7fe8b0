"""E-commerce platform (Case Study 3 and the seeds' "E-commerce Backend")."""
