"""The OCPI 2.2.1 protocol core, shared by every module app. Imports no other app of ours."""
