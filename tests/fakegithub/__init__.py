"""A fake GitHub for the test suite.

An aiohttp server on 127.0.0.1 that the bot reaches through GITHUB_API_URL. It keeps
a small world (installations, repositories, issues, pull requests, checks, Projects v2
boards, teams), answers the REST and GraphQL calls the bot makes, and checks every
request against GitHub's published OpenAPI description and GraphQL schema (vendored in
tests/fixtures/): a request GitHub would not understand is refused and listed in
`fake.violations`. Faults (5xx, slow answers, secondary rate limits, GraphQL errors,
slowly generated repositories) are injected on demand.
"""

from .fake import FakeGitHub
from .server import RecordedRequest

__all__ = ["FakeGitHub", "RecordedRequest"]
