-- Where a staff member works: service point (hall, district office, bank branch …) and window.
ALTER TABLE accounts ADD COLUMN service_point TEXT;
ALTER TABLE accounts ADD COLUMN window_no TEXT;
