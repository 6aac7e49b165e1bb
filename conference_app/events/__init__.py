"""Events: Academic Month editions, conferences and salon series, registration, check-in, attendance."""
