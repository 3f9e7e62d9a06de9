-- A holder's newest valid licence of a type, found by an index walk (material substitution and form filling at
-- every submission read it; a holder may hold hundreds of licences).
CREATE INDEX licenses_holder_type ON licenses (holder_index, license_type, status, issued, identifier);
