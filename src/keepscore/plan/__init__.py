"""The plan: from the year's goal back to the customers, leads and spend it needs."""
