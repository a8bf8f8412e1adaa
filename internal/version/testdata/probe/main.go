// Command probe prints version.String for TestLinkedVersion.
package main

import (
	"fmt"

	"sealdesk/internal/version"
)

func main() { fmt.Println(version.String("probe")) }
