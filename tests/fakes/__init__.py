"""Fake publishing targets for the tests: real servers on 127.0.0.1 that behave like the
services in shared/spec/publishing-contracts.md, failure behaviours included."""
