/* open287g: start GraphiQL from the package's own assets (no inline script, so the page
 * works under Content-Security-Policy: default-src 'self'). The query to show comes from
 * the URL fragment (#query=…) or, failing that, an example. */
(function () {
  "use strict";
  var EXAMPLE =
    "# Active Jail Enforcement agreements in Texas, with their agency's county\n" +
    "{\n" +
    '  agreements(first: 2, filter: {state: "texas", model: JAIL_ENFORCEMENT, status: ACTIVE}) {\n' +
    "    totalCount\n" +
    "    pageInfo { hasNextPage endCursor }\n" +
    "    edges { node { id signedOn moaUrl agency { name type jurisdiction { name kind } } } }\n" +
    "  }\n" +
    "}\n";
  var shared = new URLSearchParams(window.location.hash.slice(1));
  var endpoint = window.location.href.split("#")[0].split("?")[0];
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      query: shared.get("query") || undefined,
      variables: shared.get("variables") || undefined,
      defaultQuery: EXAMPLE,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
