// portald's HTTP/1.1 server on Boost.Beast and Asio. All of Beast and Asio stays in
// server.cc behind this header, so that nothing else pays for compiling them.
//
// Each I/O thread runs an event loop of its own; a connection is dealt to one of
// them at accept (round robin) and stays there. Each connection reads a request,
// runs its handler, writes the response, and waits for the next one (keep-alive).
// Reads (GET, HEAD) run on the connection's I/O thread. Commands (POST, PUT, PATCH,
// DELETE) run on a pool of worker threads: a handler blocks on the Engine until its
// append is durable, and while it waits the I/O threads keep serving, so concurrent
// commands share group commits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/metrics.h"
#include "portal/api/http.h"

namespace portal::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::port())
  int threads = 2;
  int workers = 64;  // threads for command handlers; 0: the I/O threads run them too
  std::size_t max_connections = 1024;        // beyond: a 503 and the connection is closed
  std::size_t body_limit = 1 << 20;          // bytes; beyond: 413
  std::size_t header_limit = 8 * 1024;       // bytes of request line and fields; beyond: 431
  std::chrono::seconds idle_timeout{60};     // a keep-alive connection waiting for a request
  std::chrono::seconds request_timeout{30};  // reading a request's body and writing the response
};

class Server {
 public:
  // router, authenticate and metrics must outlive the server.
  Server(ServerOptions options, const Router& router, Authenticator authenticate, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. false with *error saying what to change (address in use, ...).
  bool listen(std::string* error);
  std::uint16_t port() const;  // the bound port (after listen)

  // Starts the I/O threads; they accept and serve until shutdown().
  void start();
  // Blocks until SIGTERM or SIGINT arrives (after start()).
  void wait_for_signal();
  // Stops accepting, closes idle keep-alive connections, lets in-flight requests
  // finish for at most grace (their responses say Connection: close), then stops
  // the I/O threads. Returns the number of connections cut at the deadline.
  std::size_t shutdown(std::chrono::milliseconds grace);

  std::size_t active_connections() const;
  std::uint64_t refused_connections() const;

  struct Impl;  // opaque; public so that server.cc's connection class can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace portal::http
