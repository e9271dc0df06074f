// Transport-neutral HTTP request/response values passed between the HTTPS
// listener (net/https_server) and handlers (api, ops, apps). Handlers run on
// the listener's io thread and must not block for long.
// Header names in HttpRequest::headers are lowercased; values are as sent.
// Everything in a request is untrusted.
#pragma once

#include <map>
#include <string>

namespace aegis::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path + optional "?query" as sent
  std::string path;    // target without the query
  std::string query;   // without the '?'
  std::map<std::string, std::string> headers;
  std::string body;
  std::string client_ip;  // peer address (full; mask before logging)
};

struct HttpResponse {
  int status = 200;
  std::map<std::string, std::string> headers;  // e.g. {"content-type", "application/json"}
  std::string body;
};

}  // namespace aegis::net
