"""Loaded by infra/scaled/dev-s3 (on PYTHONPATH as sitecustomize) into moto's S3 server.

moto 5.2's ListObjectVersions deep-copies every version of every object in the bucket on
each call, whatever the prefix, and never frees the copies: CPU and memory grow with the
bucket (4.4 GB RSS after 150 documents of a burst; the portal lists a key's versions each
time it deletes one). This restricts the copy to the keys under the requested prefix, which
the listing filters on anyway, so the answers are the same (checked on versions, delete
markers and pagination). JTAI_DEV_S3_AS_IS=1 makes dev-s3 run moto unpatched.
"""

import sys
import threading

if sys.argv and sys.argv[0].endswith("moto_server"):
    import moto.s3.models as _models
    import moto.s3.utils as _utils

    _local = threading.local()

    def _iterlists(self):
        prefix = getattr(_local, "prefix", "")
        for key in self._self_iterable():
            if key.startswith(prefix):
                yield key, self.getlist(key)

    _original = _models.S3Backend.list_object_versions

    def _list_object_versions(self, bucket_name, delimiter=None, key_marker=None,
                              max_keys=1000, prefix="", version_id_marker=None):
        _local.prefix = prefix or ""
        try:
            return _original(self, bucket_name, delimiter, key_marker, max_keys, prefix,
                             version_id_marker)
        finally:
            _local.prefix = ""

    _utils._VersionedKeyStore.iterlists = _iterlists
    _models.S3Backend.list_object_versions = _list_object_versions
