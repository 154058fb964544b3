// The only translation unit with Beast and Asio (see server.h).
#include "http/server.h"

#include <atomic>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/log.h"

namespace portal::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

struct Server::Impl {
  Impl(ServerOptions o, const Router& r, Authenticator a, Metrics& m)
      : options(std::move(o)), router(r), authenticate(std::move(a)), metrics(m) {}

  ServerOptions options;
  const Router& router;
  Authenticator authenticate;
  Metrics& metrics;

  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};
  std::atomic<std::uint64_t> refused{0};
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::promise<void> signalled;
  std::atomic<bool> signal_seen{false};

  // Declared after everything sessions touch: destroyed first, so the handlers it
  // still owns (and the sessions they keep alive) go while those are valid.
  // One event loop per I/O thread, each serving the connections dealt to it at
  // accept (round robin) from start to end: no lock shared by the loops, no
  // completion handed from one thread to another. The first loop also runs the
  // acceptor and the signals.
  asio::io_context ioc{1};
  std::vector<std::unique_ptr<asio::io_context>> more_loops;  // for threads 2..n
  std::size_t next_loop = 0;                                  // the acceptor's, on ioc
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::vector<std::thread> threads;
  // After ioc: destroyed before it, with any handler it still holds.
  std::optional<asio::thread_pool> workers;

  asio::io_context& loop_for_next_connection() {
    const std::size_t i = next_loop++ % (more_loops.size() + 1);
    return i == 0 ? ioc : *more_loops[i - 1];
  }
  void do_accept();
  void refuse(tcp::socket socket);
};

namespace {

// The fixed answer to a connection over the cap: small enough for one write.
const std::string& refusal_bytes() {
  static const std::string bytes = [] {
    Response r = error_response(503, "Too many connections; retry later.");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + r.content_type +
           "\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: " + std::to_string(r.body.size()) +
           "\r\n\r\n" + r.body;
  }();
  return bytes;
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    ++server_.active;
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() {
    {
      std::lock_guard lock(server_.sessions_mu);
      server_.sessions.erase(this);
    }
    --server_.active;
  }

  void run() {
    {
      std::lock_guard lock(server_.sessions_mu);
      server_.sessions.emplace(this, weak_from_this());
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
  }

  // On shutdown: a connection waiting for its next request goes now; one with a
  // request in hand finishes it (its response says Connection: close).
  void close_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  void read_request() {
    busy_ = false;
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    busy_ = true;
    start_ = Clock::now();
    if (ec) return on_read_error(ec);
    stream_.expires_after(server_.options.request_timeout);
    const auto& req = parser_->get();
    // curl and others wait for "100 Continue" before sending a large body.
    if (!parser_->is_done() && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                           if (wec) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->handle();
                      });
  }

  void on_read_error(beast::error_code ec) {
    // A peer that went away or a timeout: nobody to answer.
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::bad_descriptor) {
      return close();
    }
    std::string method, path;
    if (parser_) {
      // Beast fills in the request line before it reads the fields, so even a request
      // refused for its header size or declared body length can be logged by path.
      method = std::string(parser_->get().method_string());
      path = std::string(parser_->get().target());
    }
    if (ec == bhttp::error::body_limit) {
      return reply_and_close(
          error_response(413, "The request body is larger than the limit of " +
                                  std::to_string(server_.options.body_limit) + " bytes; send less."),
          method, path, ec.message());
    }
    if (ec == bhttp::error::header_limit) {
      return reply_and_close(
          error_response(431, "The request header is larger than the limit of " +
                                  std::to_string(server_.options.header_limit) + " bytes."),
          method, path, ec.message());
    }
    reply_and_close(error_response(400, "Malformed HTTP request: " + ec.message() + "."), method, path,
                    ec.message());
  }

  // An answer to a request that could not be read whole: the stream is out of step,
  // so the connection ends after it.
  void reply_and_close(Response r, const std::string& method, const std::string& path,
                       const std::string& error) {
    busy_ = true;
    keep_alive_ = false;
    route_ = "unreadable";
    method_ = method.empty() ? "-" : method;
    path_ = path;
    user_.clear();
    error_ = error;
    write(std::move(r));
  }

  void handle() {
    auto& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    std::string_view target = req.target();
    request.remote_address = remote_;
    keep_alive_ = req.keep_alive() && !server_.stopping;
    method_ = request.method;
    path_ = std::string(target);
    route_ = "unmatched";
    user_.clear();
    error_.clear();
    if (target.empty() || target.front() != '/') {
      return write(error_response(400, "The request target must be a path starting with '/'."));
    }
    auto q = target.find('?');
    request.path = percent_decode(target.substr(0, q), false);
    if (q != std::string_view::npos) request.query = parse_query(target.substr(q + 1));
    request.headers.reserve(16);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());
    const bool command = request.method != "GET" && request.method != "HEAD";
    if (command && server_.workers) {
      // The session does nothing else until the handler answers: route_ and error_
      // are the worker's until it posts the response back to the session's strand.
      asio::post(*server_.workers, [self = shared_from_this(), request = std::move(request)]() mutable {
        Response r = self->server_.router.dispatch(request, self->server_.authenticate, &self->route_,
                                                   &self->error_);
        std::string user = request.auth ? request.auth->user.to_string() : std::string();
        asio::post(self->stream_.get_executor(), [self, r = std::move(r), user = std::move(user)]() mutable {
          self->respond(std::move(r), std::move(user));
        });
      });
      return;
    }
    Response r = server_.router.dispatch(request, server_.authenticate, &route_, &error_);
    respond(std::move(r), request.auth ? request.auth->user.to_string() : std::string());
  }

  void respond(Response r, std::string user) {
    user_ = std::move(user);
    if (r.status >= 500 && !error_.empty()) log_error(route_ + ": " + error_);
    write(std::move(r));
  }

  void write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->insert(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    status_ = r.status;
    bytes_ = res->body().size();
    stream_.expires_after(server_.options.request_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    server_.metrics.observe(route_, method_, status_, seconds);
    log_access({.remote = remote_,
                .method = method_,
                .route = route_,
                .path = path_,
                .status = status_,
                .bytes = bytes_,
                .duration_ms = seconds * 1000.0,
                .user = user_,
                .error = ec ? std::string_view(ec.message()) : std::string_view(error_)});
    if (ec) return close();
    if (!keep_alive_) return linger();
    read_request();
  }

  // Closing a socket with unread request bytes makes the kernel send a reset, which
  // can destroy the response before the client reads it (a 413 to a client still
  // sending its body). So: send FIN, then read and discard for a while.
  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    linger_until_ = Clock::now() + std::chrono::seconds(2);
    drain();
  }

  void drain() {
    auto left = linger_until_ - Clock::now();
    if (left <= Clock::duration::zero()) return close();
    stream_.expires_after(left);
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  bool busy_ = false;
  bool keep_alive_ = true;
  Clock::time_point start_;
  Clock::time_point linger_until_;
  std::array<char, 16 * 1024> scratch_{};
  // The request in hand, for the access log and the metrics.
  std::string route_, method_, path_, user_, error_;
  int status_ = 0;
  std::size_t bytes_ = 0;
};

void Server::Impl::do_accept() {
  acceptor->async_accept(loop_for_next_connection(), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      if (stopping) {
        beast::error_code ignored;
        socket.close(ignored);
        return;
      }
      if (active.load() >= options.max_connections) {
        refuse(std::move(socket));
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), *this)->run();
      }
    } else if (ec == asio::error::no_descriptors) {
      // Out of file descriptors: back off instead of spinning on accept.
      log_warn("accept: out of file descriptors; lower --max-connections or raise `ulimit -n`");
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(100));
      timer->async_wait([this, timer](beast::error_code) { do_accept(); });
      return;
    }
    do_accept();
  });
}

void Server::Impl::refuse(tcp::socket socket) {
  ++refused;
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*s, asio::buffer(refusal_bytes()), [s](beast::error_code, std::size_t) {
    beast::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

Server::Server(ServerOptions options, const Router& router, Authenticator authenticate, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(authenticate), metrics)) {
  impl_->signals.emplace(impl_->ioc, SIGTERM, SIGINT);
  impl_->signals->async_wait([impl = impl_.get()](beast::error_code ec, int) {
    if (ec) return;
    if (!impl->signal_seen.exchange(true)) impl->signalled.set_value();
  });
}

Server::~Server() {
  if (!impl_->threads.empty()) shutdown(std::chrono::milliseconds(0));
}

bool Server::listen(std::string* error) {
  auto fail = [&](std::string message) {
    if (error) *error = std::move(message);
    return false;
  };
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return fail("--address " + impl_->options.address + " is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor.emplace(impl_->ioc);
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (ec) {
    return fail(
        "cannot listen on " + impl_->options.address + ":" + std::to_string(impl_->options.port) + ": " +
        ec.message() +
        (ec == asio::error::address_in_use ? " (choose another --port, or stop the other server)" : ""));
  }
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen: " + ec.message());
  return true;
}

std::uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->acceptor ? impl_->acceptor->local_endpoint(ec).port() : 0;
}

void Server::start() {
  const int n = std::max(1, impl_->options.threads);
  for (int i = 1; i < n; ++i) impl_->more_loops.push_back(std::make_unique<asio::io_context>(1));
  impl_->work.push_back(asio::make_work_guard(impl_->ioc));
  for (auto& loop : impl_->more_loops) impl_->work.push_back(asio::make_work_guard(*loop));
  impl_->do_accept();
  if (impl_->options.workers > 0) impl_->workers.emplace(static_cast<std::size_t>(impl_->options.workers));
  impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  for (auto& loop : impl_->more_loops) impl_->threads.emplace_back([l = loop.get()] { l->run(); });
}

void Server::wait_for_signal() {
  impl_->signalled.get_future().wait();
}

std::size_t Server::shutdown(std::chrono::milliseconds grace) {
  auto& impl = *impl_;
  impl.stopping = true;
  if (impl.acceptor) {
    asio::post(impl.ioc, [&impl] {
      beast::error_code ignored;
      impl.acceptor->close(ignored);
    });
  }
  {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(impl.sessions_mu);
      for (auto& [raw, weak] : impl.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->close_if_idle();
  }
  auto deadline = Clock::now() + grace;
  while (impl.active.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::size_t cut = impl.active.load();
  impl.work.clear();
  if (impl.signals) {
    beast::error_code ignored;
    impl.signals->cancel(ignored);
  }
  impl.ioc.stop();
  for (auto& loop : impl.more_loops) loop->stop();
  for (auto& t : impl.threads) t.join();
  impl.threads.clear();
  // Handlers still running past the grace finish here; their answers are not sent.
  if (impl.workers) {
    impl.workers->join();
    impl.workers.reset();
  }
  return cut;
}

std::size_t Server::active_connections() const {
  return impl_->active.load();
}
std::uint64_t Server::refused_connections() const {
  return impl_->refused.load();
}

}  // namespace portal::http
