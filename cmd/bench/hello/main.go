// Command hello is the benchmark's ceiling: Fiber answering a fixed string,
// with nothing else, on the address given as its argument.
package main

import (
	"log"
	"os"

	"github.com/gofiber/fiber/v2"
)

func main() {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("Hello, World!") })
	log.Fatal(app.Listen(os.Args[1]))
}
