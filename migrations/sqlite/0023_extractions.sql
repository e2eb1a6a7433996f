-- What each stored object's header says (#20), read once per object by a job: the
-- format recognised ('cbf', 'mmcif', 'hdf5'; NULL when none was), the facts as JSON, or
-- why a recognised header could not be read, and how many bytes were read for it.
-- extracted_at is NULL while the job has yet to run. Objects are content-addressed, so
-- a new version or a bag of the same bytes reuses the row.
CREATE TABLE extractions (
    sha256 TEXT PRIMARY KEY REFERENCES objects(sha256) ON DELETE CASCADE,
    format TEXT CHECK (format IN ('cbf', 'mmcif', 'hdf5')),
    facts TEXT,
    problem TEXT,
    bytes_read BIGINT NOT NULL DEFAULT 0,
    extracted_at BIGINT
);

-- Pictures of image files, drawn once on first request and kept: by the image's
-- object and the picture's size ('small' thumbnail or 'large' view), as PNG.
CREATE TABLE previews (
    sha256 TEXT NOT NULL REFERENCES objects(sha256) ON DELETE CASCADE,
    size TEXT NOT NULL CHECK (size IN ('small', 'large')),
    png BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, size)
);
