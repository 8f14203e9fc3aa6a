package deps
import (
 _ "github.com/gorilla/websocket"
 _ "modernc.org/sqlite"
 _ "github.com/google/uuid"
 _ "github.com/vmihailenco/msgpack/v5"
 _ "github.com/stretchr/testify/require"
 _ "golang.org/x/text/unicode/norm"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/schollz/progressbar/v3"
 _ "golang.org/x/term"
)
