"""The HTTP toolkit the three front ends (REST `api/`, `graphql/`, the HTML `pages/`) share:
the response cache, conditional requests, problem documents, parameters, rate and size limits,
compression, security headers, shipped files and the access log. It knows no front end."""
