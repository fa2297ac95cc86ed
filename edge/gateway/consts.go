package gateway

import "time"

const gcInterval = 5 * time.Minute
