-- 0011: JG (prices) looks up recent postings of one product and side inside a county's or a city's
-- code range; postings_product_time made it read every posting of the product (tens of thousands
-- for a common one) to keep the few in the area.
CREATE INDEX postings_prices ON postings(product, side, region_code, created_at);
