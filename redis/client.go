package redis

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron/internal/redact"
)

// dialURL makes a client from a redis:// or rediss:// URL. Neither the URL
// nor its credentials appear in the errors it returns or in the where it
// returns (host:port/db, for String).
func dialURL(o Options) (client *goredis.Client, where string, secrets []string, err error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		// A *url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", nil, fmt.Errorf("solocron/redis: bad Options.URL: %v", redact.Error(err, urlSecrets(o.URL)))
	}
	if u.User != nil {
		secrets = append(secrets, u.User.Username())
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, "", nil, fmt.Errorf("solocron/redis: bad Options.URL: scheme %q, want redis:// or rediss://", u.Scheme)
	}
	ro, err := goredis.ParseURL(o.URL)
	if err != nil {
		return nil, "", nil, fmt.Errorf("solocron/redis: bad Options.URL: %v", redact.Error(err, secrets))
	}
	if u.Scheme == "rediss" && o.TLSConfig != nil {
		ro.TLSConfig = o.TLSConfig.Clone()
		if ro.TLSConfig.ServerName == "" {
			ro.TLSConfig.ServerName = u.Hostname()
		}
	}
	// Renewals and claims carry deadlines; without this go-redis would
	// wait for its own ReadTimeout instead.
	ro.ContextTimeoutEnabled = true
	if ro.ClientName == "" {
		host, _ := os.Hostname()
		ro.ClientName = clientName(o.App, host, os.Getpid())
	}
	where = fmt.Sprintf("%s://%s/%d", u.Scheme, ro.Addr, ro.DB)
	return goredis.NewClient(ro), where, secrets, nil
}

// clientName is the CLIENT SETNAME of the connections an Elector made from
// a URL, so that an operator can find (or CLIENT KILL) one process's
// connections. Redis names may not contain spaces.
func clientName(app, host string, pid int) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, fmt.Sprintf("solocron:%s:%s:%d", app, host, pid))
}

// describeClient names where an existing client points, for String.
func describeClient(c goredis.UniversalClient) string {
	switch c := c.(type) {
	case *goredis.Client:
		o := c.Options()
		scheme := "redis"
		if o.TLSConfig != nil {
			scheme = "rediss"
		}
		return fmt.Sprintf("%s://%s/%d", scheme, o.Addr, o.DB)
	case *goredis.ClusterClient:
		return "redis cluster " + strings.Join(c.Options().Addrs, ",")
	default:
		return fmt.Sprintf("redis client %T", c)
	}
}

// urlSecrets digs the userinfo out of a URL that url.Parse refused, so that
// it can be scrubbed from the error. Unlike redact.Secrets it takes the user
// name too: with Redis ACLs a user name is half a credential, and no
// server error needs to name it.
func urlSecrets(raw string) []string {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	user, pass, _ := strings.Cut(rest[:at], ":")
	return []string{user, pass, rest[:at]}
}
