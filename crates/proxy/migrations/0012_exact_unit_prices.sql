-- Unit prices exactly as the upstream wrote them, as decimal text: Azure
-- prices a Functions GB-second at 0.000016 USD and partner-earned credit
-- makes it 0.0000136, which millionths would round 3 % off (FOCUS exports
-- multiply unit prices by quantities and must get the costs they write).
-- Lines kept before keep their prices to the millionth; the next sync
-- reads them again whole.
ALTER TABLE line_items ADD COLUMN unit_price TEXT NOT NULL DEFAULT '0';
ALTER TABLE line_items ADD COLUMN effective_unit_price TEXT NOT NULL DEFAULT '0';
UPDATE line_items SET
    unit_price = (CASE WHEN unit_price_micros < 0 THEN '-' ELSE '' END)
        || (abs(unit_price_micros) / 1000000) || '.'
        || substr('000000' || (abs(unit_price_micros) % 1000000), -6),
    effective_unit_price = (CASE WHEN effective_unit_price_micros < 0 THEN '-' ELSE '' END)
        || (abs(effective_unit_price_micros) / 1000000) || '.'
        || substr('000000' || (abs(effective_unit_price_micros) % 1000000), -6);
ALTER TABLE line_items DROP COLUMN unit_price_micros;
ALTER TABLE line_items DROP COLUMN effective_unit_price_micros;
