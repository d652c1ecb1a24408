"""When things happen: delivery times and the periodic jobs."""
