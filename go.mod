module github.com/solocron/solocron

go 1.24
