-- How readers may fetch a mirror's copies: 'none' (the archive's own replicas only),
-- 'public' (the bucket is published at public_url, objects under their keys), or
-- 'presigned' (the archive signs short-lived GET URLs with the mirror's credentials).
ALTER TABLE mirrors ADD COLUMN readers TEXT NOT NULL DEFAULT 'none'
    CHECK (readers IN ('none', 'public', 'presigned'));
ALTER TABLE mirrors ADD COLUMN public_url TEXT;
