"""The admin's date and time formats (FORMAT_MODULE_PATH): ISO-like and labelled with the
zone, the same as ocpi.display writes, instead of English's "Dec. 7, 2026, 3:06 p.m."."""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
