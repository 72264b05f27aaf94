"""Track databases copied whole: `omc-dev db clone`, `db snapshot`, `db restore`, `db snapshots`."""
